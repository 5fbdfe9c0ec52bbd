# The part of CPython's unittest that tests/unit uses, for the MicroPython unix
# port (micropython-lib's unittest is installed with mip, which needs a network).
# Under CPython the real unittest module is used instead.


class SkipTest(Exception):
    pass


class _Raises:
    def __init__(self, exc):
        self.exc = exc
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, typ, value, tb):
        if typ is None:
            raise AssertionError("%s not raised" % self.exc.__name__)
        if issubclass(typ, self.exc):
            self.exception = value
            return True
        return False


class TestCase:
    def setUp(self):
        pass

    def tearDown(self):
        pass

    def fail(self, msg="failed"):
        raise AssertionError(msg)

    def assertEqual(self, a, b, msg=None):
        if not a == b:
            self.fail(msg or "%r != %r" % (a, b))

    def assertNotEqual(self, a, b, msg=None):
        if a == b:
            self.fail(msg or "%r == %r" % (a, b))

    def assertTrue(self, x, msg=None):
        if not x:
            self.fail(msg or "%r is not true" % (x,))

    def assertFalse(self, x, msg=None):
        if x:
            self.fail(msg or "%r is not false" % (x,))

    def assertIs(self, a, b, msg=None):
        if a is not b:
            self.fail(msg or "%r is not %r" % (a, b))

    def assertIsNone(self, x, msg=None):
        self.assertIs(x, None, msg)

    def assertIn(self, a, b, msg=None):
        if a not in b:
            self.fail(msg or "%r not in %r" % (a, b))

    def assertNotIn(self, a, b, msg=None):
        if a in b:
            self.fail(msg or "%r unexpectedly in %r" % (a, b))

    def assertLessEqual(self, a, b, msg=None):
        if not a <= b:
            self.fail(msg or "%r > %r" % (a, b))

    def assertRaises(self, exc, func=None, *args, **kwargs):
        ctx = _Raises(exc)
        if func is None:
            return ctx
        with ctx:
            func(*args, **kwargs)
        return ctx


def main(modules):
    """Run every test_* method of every TestCase in modules; print a summary line."""
    passed = failed = skipped = 0
    for mod in modules:
        for name in sorted(dir(mod)):
            cls = getattr(mod, name)
            if not (isinstance(cls, type) and issubclass(cls, TestCase) and cls is not TestCase):
                continue
            for meth in sorted(dir(cls)):
                if not meth.startswith("test"):
                    continue
                label = "%s.%s.%s" % (mod.__name__, name, meth)
                case = cls()
                try:
                    case.setUp()
                    try:
                        getattr(case, meth)()
                    finally:
                        case.tearDown()
                    passed += 1
                    print("ok     " + label)
                except SkipTest as e:
                    skipped += 1
                    print("SKIP   %s: %s" % (label, e))
                except Exception as e:
                    failed += 1
                    print("FAIL   %s: %s: %s" % (label, type(e).__name__, e))
                    import sys
                    sys.print_exception(e)
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print("unit: " + line)
    return failed == 0
