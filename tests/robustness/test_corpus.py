"""Every datagram of gen_corpus.py sent to the simulated board, each answer checked
exactly; afterwards the board still serves and its heap is where it was."""

import collections
import re

import coapmsg
import pytest
from boardsim import SimulatedBoard
import conformance
import links
from gen_corpus import generate
from rawcoap import Peer

BATCH = 32  # silent cases sent back to back before one sentinel ping


@pytest.fixture(scope="module")
def board():
    # The corpus checks RFC 7252's answers in full (diagnostics, links, blocks of the
    # size asked for), as a verified peer gets them; test_amplification.py checks
    # what unverified peers get (RFC 9175 §2.4).
    with SimulatedBoard(config={"amplification_limit": False}) as b:
        yield b
ECHO_RULES = (
    ("ACK", "Piggybacked response: an ACK echoing MID and token", "RFC 7252 §5.2.1"),
    ("NON", "NON request answered with a NON response echoing the token", "RFC 7252 §5.2.3"))


def _code(c):
    return "%d.%02d" % (c >> 5, c & 31)


def describe(answers):
    types = ("CON", "NON", "ACK", "RST")
    return ", ".join("%s %s" % (types[a[0] >> 4 & 3], _code(a[1])) if len(a) >= 4 else a.hex()
                     for a in answers) or "nothing"


def check(case, answers, wkc):
    """None when answers (every datagram the case provoked) are what the RFC asks for;
    wkc is the board's unfiltered /.well-known/core payload."""
    want = case.expect
    kind = want["answer"]
    data = case.data
    rst = bytes([0x70, 0]) + data[2:4] if len(data) >= 4 else None
    if kind == "silence":
        return None if not answers else "expected silence, got %s" % describe(answers)
    if kind == "reject":
        return None if answers in ([], [rst]) else (
            "expected silence or an RST echoing the MID, got %s" % describe(answers))
    if len(answers) != 1:
        return "expected one answer, got %s" % describe(answers)
    got = answers[0]
    if kind == "rst":
        return None if got == rst else "expected exactly %s" % rst.hex()
    if got[0] >> 6 != 1 or got[0] & 15 > 8:
        return "answer is not a CoAP message"
    mtype, code, mid, token, opts, payload = coapmsg.decode(got)
    tkl = data[0] & 15
    errors = []
    if mtype != {"ACK": 2, "NON": 1}[kind]:
        errors.append("type %d, expected %s" % (mtype, kind))
    if kind == "ACK" and got[2:4] != data[2:4]:
        errors.append("MID not echoed")
    if token != data[4:4 + tkl]:
        errors.append("token not echoed")
    if _code(code) != want["code"]:
        errors.append("code %s, expected %s" % (_code(code), want["code"]))
    for name, num in (("ct", 12), ("size1", 60)):
        value = coapmsg.option(opts, num)
        if name in want and (value is None or coapmsg.to_uint(value) != want[name]):
            errors.append("%s %r, expected %d" % (name, value, want[name]))
    if "body" in want and payload != bytes.fromhex(want["body"]):
        errors.append("payload %r" % payload)
    if "body_re" in want and not re.fullmatch(want["body_re"], payload.decode("latin-1")):
        errors.append("payload %r does not match %s" % (payload, want["body_re"]))
    if "links" in want and want["links"]:
        if links.parse(payload) != links.select(links.parse(wkc), want["links"]):
            errors.append("links %r" % payload)
    elif "links" in want:
        errors += links.missing_board_links(links.parse(payload))
    if "block2" in want:
        whole = wkc if want.get("ct") == 40 else None
        errors += block_errors(want["block2"], coapmsg.option(opts, 23), payload, whole)
    return "; ".join(errors) or None


def block_errors(asked, block2, payload, whole):
    """RFC 7959 §2.4: block NUM asked for, in the size asked for or smaller; whole is
    the representation the block is cut from, when known."""
    num, szx = asked
    if block2 is None:  # the whole representation, allowed when it fits in one block
        return [] if num == 0 and len(payload) <= 16 << szx else ["no Block2 option"]
    value = coapmsg.to_uint(block2)
    got_num, more, got_szx = value >> 4, value >> 3 & 1, value & 7
    size = 16 << got_szx
    errors = []
    if got_szx > szx or got_num * size != num * (16 << szx):
        errors.append("Block2 %d/%d/%d for %d/%d" % (got_num, more, size, num, 16 << szx))
    if len(payload) > size or (more and len(payload) != size):
        errors.append("block of %d bytes in blocks of %d" % (len(payload), size))
    if whole is not None and payload != whole[got_num * size:(got_num + 1) * size]:
        errors.append("block %r is not that part of the representation" % payload)
    return errors


def run_corpus(peer, cases, wkc):
    """{case index: error} for every case whose answer was wrong."""
    failed = {}
    batch = []

    def flush():
        if batch and peer.sync():
            # something answered a case that should have stayed silent: find which, one by one
            for i in batch:
                peer.send(cases[i].data)
                error = check(cases[i], peer.sync(), wkc)
                if error:
                    failed[i] = error
        batch.clear()

    for i, case in enumerate(cases):
        if case.expect["answer"] == "silence":
            peer.send(case.data)
            batch.append(i)
            if len(batch) >= BATCH:
                flush()
            continue
        flush()
        peer.send(case.data)
        error = check(case, peer.sync(), wkc)
        if error:
            failed[i] = error
    flush()
    return failed


def test_corpus_answers_as_rfc_7252_says_and_leaks_nothing(board):
    cases = generate()
    assert len(cases) >= 1000
    with Peer(board.host, board.port) as peer:
        mtype, code, mid, token, opts, wkc = peer.request(".well-known/core")
        # Once through first: what the first datagrams of a kind allocate once
        # is not a leak; a second pass must leave the heap as it found it
        run_corpus(peer, cases, wkc)
        peer.free_heap()  # the first /board read settles the heap
        heap_before = peer.free_heap()
        failed = run_corpus(peer, cases, wkc)

        groups = collections.OrderedDict()
        for i, case in enumerate(cases):
            groups.setdefault((case.behaviour, case.section), []).append(i)
        for (behaviour, section), members in groups.items():
            conformance.record(behaviour, section, "raw", not any(i in failed for i in members))
        for kind, behaviour, section in ECHO_RULES:  # checked on every response
            conformance.record(behaviour, section, "raw", not any(
                re.search("type|MID|token", error) for i, error in failed.items()
                if cases[i].expect["answer"] == kind))

        assert board.proc.poll() is None, board.output()
        mtype, code, mid, token, opts, payload = peer.request("sensors/temp")
        assert (mtype, code, mid, token) == (2, 69, 0x4242, b"\x5a")
        heap_after = peer.free_heap()

    problems = ["%s [%s]\n    %s\n    -> %s" % (cases[i].behaviour, cases[i].section,
                                               cases[i].data[:48].hex(), error)
                for i, error in sorted(failed.items())]
    if failed:
        problems.insert(0, "%d of %d cases answered wrongly:" % (len(failed), len(cases)))
    if heap_after != heap_before:
        problems.append("free heap %d before the corpus, %d after" % (heap_before, heap_after))
    assert not problems, "\n".join(problems)
