// A tag-manager container that also fires the page view's init: a duplicate.
window.InsiderQueue.push({ type: 'init' });
