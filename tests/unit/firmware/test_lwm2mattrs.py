# firmware/lwm2mattrs.py: LwM2M notification attributes (1.1 Core §5.1.2):
# Write-Attributes and Discover through the request path, and when an
# observed resource notifies (pmin, pmax, gt, lt, st) and how often its value
# is evaluated (epmin, epmax), on a clock the test moves.
import unittest

from test_lwm2m import build, call

from lwm2mattrs import NAMES, Attrs, Group, Notifier


def index(name):
    return NAMES.index(name.encode())


class Clock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now


def notifier(**attrs):
    a = Attrs()
    for k, v in attrs.items():
        a.v[index(k)] = v
    value = [2000]
    clock = Clock()
    n = Notifier(a, lambda: value[0], clock)
    n.sent()
    return n, value, clock


class Semantics(unittest.TestCase):
    def test_without_attributes_any_change_notifies(self):
        n, value, clock = notifier()
        self.assertFalse(n.due())
        value[0] = 2001
        self.assertTrue(n.due())

    def test_never_sooner_than_pmin(self):
        n, value, clock = notifier(pmin=10)
        value[0] = 2500
        clock.now = 9999
        self.assertFalse(n.due())
        clock.now = 10000
        self.assertTrue(n.due())

    def test_pmax_notifies_even_unchanged(self):
        n, value, clock = notifier(pmax=30)
        clock.now = 29999
        self.assertFalse(n.due())
        clock.now = 30000
        self.assertTrue(n.due())

    def test_step_counts_from_the_last_notification(self):
        n, value, clock = notifier(st=50)  # st=0.5
        value[0] = 2049
        self.assertFalse(n.due())
        value[0] = 1950
        self.assertTrue(n.due())
        n.sent()
        value[0] = 1999
        self.assertFalse(n.due())

    def test_crossing_gt_or_lt_notifies_small_moves_do_not(self):
        n, value, clock = notifier(gt=2100, lt=1900)
        value[0] = 2090
        self.assertFalse(n.due())
        value[0] = 2101  # crossed gt upwards
        self.assertTrue(n.due())
        n.sent()
        value[0] = 2300
        self.assertFalse(n.due())  # still above
        value[0] = 1899  # crossed both
        self.assertTrue(n.due())

    def test_a_resource_inherits_from_its_instance_and_object(self):
        obj = Attrs()
        inst = Attrs(obj)
        res = Attrs(inst)
        obj.v[0] = 5
        self.assertEqual(res.get(0), 5)
        inst.v[0] = 7
        res.v[1] = 60
        self.assertEqual((res.get(0), res.get(1), res.get(4)), (7, 60, None))


class EvaluationPeriods(unittest.TestCase):
    """epmin: the value is read no more often; between two reads the last
    one holds, so a change shows only at the next evaluation. epmax: at
    least that often, which every tick meets."""

    def test_a_change_waits_for_the_next_evaluation(self):
        reads = []
        n, value, clock = notifier(epmin=30)
        n.value = lambda: reads.append(clock.now) or value[0]
        n.sent()  # read at 0
        value[0] = 2500
        clock.now = 1000
        self.assertFalse(n.due())  # 0 + 30 s: not evaluated yet
        clock.now = 29999
        self.assertFalse(n.due())
        self.assertEqual(reads, [0])
        clock.now = 30000
        self.assertTrue(n.due())
        self.assertEqual(reads, [0, 30000])
        n.sent()
        value[0] = 2000
        clock.now = 45000
        self.assertFalse(n.due())
        self.assertEqual(reads, [0, 30000, 30000])

    def test_pmax_still_notifies_and_epmax_is_met_by_every_tick(self):
        n, value, clock = notifier(epmin=10, epmax=20, pmax=15)
        clock.now = 15000
        self.assertTrue(n.due())  # pmax, whatever the evaluation says
        n, value, clock = notifier(epmax=20)
        value[0] = 2001
        clock.now = 100  # a tick long before epmax: evaluated, and due
        self.assertTrue(n.due())

    def test_an_instance_epmin_holds_its_resources(self):
        clock = Clock()
        inst = Attrs()
        inst.v[index("epmin")] = 5
        values = [2000]
        g = Group(inst, [Notifier(Attrs(inst), lambda: values[0], clock)], clock)
        g.sent()
        values[0] = 2100
        clock.now = 4999
        self.assertFalse(g.due())
        clock.now = 5000
        self.assertTrue(g.due())


class GroupSemantics(unittest.TestCase):
    """An observed instance or object: its own pmin and pmax, and a change
    of any of its resources as that resource's attributes say."""

    def make(self, **attrs):
        clock = Clock()
        inst = Attrs()
        for k, v in attrs.items():
            inst.v[index(k)] = v
        values = [2000, 5000]
        own = Attrs(inst)
        own.v[index("st")] = 1000  # the second resource's own st: 10.00
        parts = [Notifier(Attrs(inst), lambda: values[0], clock),
                 Notifier(own, lambda: values[1], clock)]
        g = Group(inst, parts, clock)
        g.sent()
        return g, values, clock

    def test_pmin_holds_back_pmax_forces(self):
        g, values, clock = self.make(pmin=5, pmax=30)
        values[0] = 2100
        clock.now = 4999
        self.assertFalse(g.due())
        clock.now = 5000
        self.assertTrue(g.due())
        g.sent()
        clock.now = 5000 + 29999
        self.assertFalse(g.due())  # unchanged since
        clock.now = 5000 + 30000
        self.assertTrue(g.due())

    def test_each_resource_by_its_own_attributes(self):
        g, values, clock = self.make(st=50)
        values[1] = 5900  # moved 9.00: below its own st of 10.00
        self.assertFalse(g.due())
        values[0] = 2050  # moved 0.50: the instance's st
        self.assertTrue(g.due())
        g.sent()
        self.assertFalse(g.due())  # measured from the group's last notification
        values[1] = 6800  # 9.00 from 5900, where it was then
        self.assertFalse(g.due())
        values[1] = 6900
        self.assertTrue(g.due())

    def test_nothing_before_an_observation(self):
        g = Group(Attrs(), [], Clock())
        self.assertFalse(g.due())


class WriteAttributes(unittest.TestCase):
    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()

    def test_set_then_discover_shows_them(self):
        r = call(self.srv, "PUT", "3303/0/5700?pmin=10&pmax=60&st=0.5")
        self.assertEqual(str(r.code), "2.04")
        call(self.srv, "PUT", "3303/0?gt=30")
        self.assertEqual(call(self.srv, "GET", "3303/0/5700", accept=40).payload,
                         b"</3303/0/5700>;pmin=10;pmax=60;st=0.50")
        links = call(self.srv, "GET", "3303/0", accept=40).payload
        self.assertTrue(links.startswith(b"</3303/0>;gt=30.00,</3303/0/5700>;pmin=10;"), links)

    def test_evaluation_periods_set_then_discovered(self):
        r = call(self.srv, "PUT", "3303/0/5700?epmin=10&epmax=60")
        self.assertEqual(str(r.code), "2.04")
        call(self.srv, "PUT", "3303/0?epmin=5")
        self.assertEqual(call(self.srv, "GET", "3303/0/5700", accept=40).payload,
                         b"</3303/0/5700>;epmin=10;epmax=60")
        links = call(self.srv, "GET", "3303/0", accept=40).payload
        self.assertTrue(links.startswith(b"</3303/0>;epmin=5,"), links)

    def test_a_name_alone_unsets_it(self):
        call(self.srv, "PUT", "3303/0/5700?pmin=10&pmax=60")
        call(self.srv, "PUT", "3303/0/5700?pmin")
        self.assertEqual(call(self.srv, "GET", "3303/0/5700", accept=40).payload,
                         b"</3303/0/5700>;pmax=60")

    def test_bad_attributes_are_4_00_and_change_nothing(self):
        call(self.srv, "PUT", "3303/0/5700?pmin=10")
        for q, why in (("pmin=x", b"bad value of pmin"), ("pmax=-1", b"bad value of pmax"),
                       ("color=red", b"unknown attribute color"),
                       ("pmin=20&pmax=5", b"pmax below pmin"),
                       ("gt=20&lt=25", b"lt must be below gt (by more than 2 st)"),
                       ("st=0.123", b"bad value of st"),
                       ("epmin=20&epmax=20", b"epmax must be above epmin"),
                       ("epmin=-1", b"bad value of epmin"), ("epmax=1.5", b"bad value of epmax")):
            r = call(self.srv, "PUT", "3303/0/5700?" + q)
            self.assertEqual((str(r.code), r.payload), ("4.00", why), q)
        self.assertEqual(call(self.srv, "GET", "3303/0/5700", accept=40).payload,
                         b"</3303/0/5700>;pmin=10")

    def test_the_tick_tells_observe_what_is_due(self):
        marked = []

        class Observers:
            active = 1

            def changed(self, res):
                marked.append(res.path)

        class Server:
            observers = Observers()
            heap = None
        self.objects.server = Server()
        call(self.srv, "PUT", "3303/0/5700?st=1")
        call(self.srv, "GET", "3303/0/5700", observe=0)  # an observation begins
        self.objects.tick()
        self.assertEqual(marked, [])
        self.board.drivers["dht22"].values = [2300, 4500]  # 21.50 -> 23.00
        self.sensors.refresh(10 ** 6)
        self.objects.tick()
        self.assertEqual(marked, [(b"3303", b"0", b"5700")])
        self.objects.tick()
        self.assertEqual(len(marked), 1)  # measured from the last one now
