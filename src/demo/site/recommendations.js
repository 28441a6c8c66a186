// Loaded in <head> above the queue's init: this push throws a TypeError.
window.InsiderQueue.push({ type: 'category', value: { name: 'Beans' } });
