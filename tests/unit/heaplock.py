# Run a call with MicroPython's heap locked: any allocation in it raises
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
