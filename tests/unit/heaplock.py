# Run code with MicroPython's heap locked: any allocation in it raises
# MemoryError (DESIGN.md, "What allocates"). One helper for every unit test.
try:
    from micropython import heap_lock, heap_unlock
except ImportError:  # CPython has no heap to lock
    heap_lock = None


def no_alloc(test, label, f, a=None, b=None):
    """f(), f(a) or f(a, b) with the heap locked (MicroPython only): returns its
    result, or fails the test with "<label> allocated". Warm up first: a first
    call may allocate (e.g. interning names). No *args here: unpacking them
    would allocate; arguments are evaluated before the heap is locked."""
    if heap_lock is None:
        return f() if a is None else f(a) if b is None else f(a, b)
    heap_lock()
    try:
        return f() if a is None else f(a) if b is None else f(a, b)
    except MemoryError:
        pass
    finally:
        heap_unlock()
    test.fail(label + " allocated")


class locked:
    """`with locked(test, label):` runs the block with the heap locked
    (MicroPython only; under CPython it just runs); an allocation in it fails
    the test with "<label> allocated". For code that is no single call. The
    object is made before the lock, and entering and leaving the block
    allocate nothing."""

    def __init__(self, test, label):
        self.test = test
        self.label = label

    def __enter__(self):
        if heap_lock is not None:
            heap_lock()
        return self

    def __exit__(self, typ, value, tb):
        if heap_lock is None:
            return False
        heap_unlock()
        if typ is MemoryError:
            self.test.fail(self.label + " allocated")
        return False
