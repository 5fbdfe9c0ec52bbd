# The board's OSCORE security context (RFC 8613), made from config.json's
# "oscore" field at start-up (docs/security.md). The library modules are
# imported only when a context is asked for.

import os

import config

#: where the board reserves its OSCORE sequence numbers (RFC 8613 Appendix B.1.1),
#: in the working directory: the board's root, or where `make run` was started
SEQUENCE_FILE = "oscore.seq"
#: ... and those of its update context: a context of its own, since the file
#: server and the operator's client are two processes that can't share one
UPDATE_SEQUENCE_FILE = "update.seq"


def contexts(cfg, log):
    """The OSCORE contexts the config asks for: None (no security), or a list,
    empty when the context is unusable (then protected resources are refused)."""
    sec = cfg["oscore"]
    if sec is None:
        return None
    if sec == config.INVALID:
        return []  # validate() has said why
    from coap.oscorectx import Context, SequenceStore  # only a board with a context

    unhex = config.unhex
    try:
        os.stat(SEQUENCE_FILE)
    except OSError:  # a new context, or a wiped one: say so, it matters (docs/security.md)
        log("oscore: no %s: sequence numbers start at 0; a secret used before a wipe "
            "must be replaced" % SEQUENCE_FILE)
    try:
        ctx = Context(unhex(sec["secret"]), unhex(sec.get("salt", "")), unhex(sec["sender_id"]),
                      unhex(sec["recipient_id"]),
                      unhex(sec["id_context"]) if "id_context" in sec else None,
                      SequenceStore(SEQUENCE_FILE))
    except (ValueError, OSError) as e:  # the messages name fields and files, never keys
        log("oscore: %s; OSCORE-protected resources are refused" % e)
        return []
    log("oscore: context ready (sender_id %s), %d open resource(s)"
        % (sec["sender_id"] or "empty", len(cfg["open"])))
    return [ctx]


def update_context(cfg):
    """The board's context for its update file server (config "update_oscore",
    docs/updates.md), made when an update starts. ValueError when the config's
    is unusable; the messages name fields and files, never keys."""
    sec = cfg["update_oscore"]
    if sec is None or sec == config.INVALID:
        raise ValueError("unusable (see the config's line at boot)")
    from coap.oscorectx import Context, SequenceStore

    unhex = config.unhex
    return Context(unhex(sec["secret"]), unhex(sec.get("salt", "")), unhex(sec["sender_id"]),
                   unhex(sec["recipient_id"]),
                   unhex(sec["id_context"]) if "id_context" in sec else None,
                   SequenceStore(UPDATE_SEQUENCE_FILE))
