// A third-party reviews widget that re-creates the queue instead of reusing it:
// the category push above is lost.
window.InsiderQueue = [];
window.InsiderQueue.push({ type: 'init' });
