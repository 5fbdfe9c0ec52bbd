"""tools/commitcheck.py: micropython-lib's commit message form (.ci/run runs it
on the history: python -m tools.commitcheck)."""

from tools.commitcheck import faults

GOOD = "coap/parse: Reject option nibble 15.\n\nRFC 7252 3.1: 15 is reserved for the payload marker.\n"


def test_a_good_message_passes():
    assert faults(GOOD) == []
    assert faults("README, docs: Say what make test installs.") == []


def test_each_fault_is_named():
    cases = {
        "coap/parse: " + "A" * 60 + ".": "subject is 73 characters",
        "Reject option nibble 15.": "not 'area: Capitalised sentence.'",
        "coap/parse: reject option nibble 15.": "not 'area: Capitalised sentence.'",
        "coap/parse: Reject option nibble 15": "full stop",
        "coap/parse: Reject option nibble 15.\nA body without a blank line.": "no blank line",
        "coap/parse: Reject option nibble 15.\n\n" + "x" * 76: "line 3 is 76 characters",
    }
    for message, fault in cases.items():
        found = faults(message)
        assert len(found) == 1 and fault in found[0], (message, found)


def test_a_long_url_in_the_body_may_stay_whole():
    assert faults(GOOD + "\nhttps://datatracker.ietf.org/doc/html/rfc7252#section-3.1" + "x" * 30) == []
