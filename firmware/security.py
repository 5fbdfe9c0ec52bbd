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
#: ... and those of its context with the LwM2M server (config "lwm2m"."oscore"):
#: one counter for both roles, the board's requests and its answers
LWM2M_SEQUENCE_FILE = "lwm2m.seq"


def contexts(cfg, log):
    """The OSCORE contexts the config asks for: None (no security), or a list,
    empty when the context is unusable (then protected resources are refused)."""
    sec = cfg["oscore"]
    if sec is None:
        return None
    if sec == config.INVALID:
        return []  # validate() has said why
    _fresh(SEQUENCE_FILE, "oscore", log)
    try:
        ctx = _context(sec, SEQUENCE_FILE)
    except (ValueError, OSError) as e:  # the messages name fields and files, never keys
        log("oscore: %s; OSCORE-protected resources are refused" % e)
        return []
    log("oscore: context ready (sender_id %s), %d open resource(s)"
        % (sec["sender_id"] or "empty", len(cfg["open"])))
    return [ctx]


def lwm2m_context(cfg, log):
    """The board's context with its LwM2M server (config "lwm2m"."oscore",
    docs/lwm2m.md): None when the config has none, False when it asked for
    one that is unusable (then nothing LwM2M goes plain), else the context.
    One context serves both roles (RFC 8613 §3.1): it protects the board's
    Register, Update and De-register and it opens the LwM2M objects to the
    server's requests, with one sequence number counter."""
    lw = cfg["lwm2m"]
    sec = None if lw is None else lw.get("oscore")
    if sec is None:
        return None
    if sec == config.INVALID:
        return False  # validate() has said why
    _fresh(LWM2M_SEQUENCE_FILE, "lwm2m", log)
    try:
        ctx = _context(sec, LWM2M_SEQUENCE_FILE)
    except (ValueError, OSError) as e:  # the messages name fields and files, never keys
        log("lwm2m: oscore: %s; not registering, the LwM2M objects are refused" % e)
        return False
    log("lwm2m: OSCORE context ready (sender_id %s)" % (sec["sender_id"] or "empty"))
    return ctx


def with_lwm2m(contexts, open_paths, ctx, others):
    """The server's (contexts, open paths) once the LwM2M context ctx (or
    False, unusable) joins those of "oscore" (contexts, open_paths). others:
    the table's resources besides the LwM2M objects. A board without an
    "oscore" context keeps them open: only the LwM2M objects need OSCORE."""
    mine = [ctx] if ctx else []
    if contexts is not None:
        return contexts + mine, open_paths
    return mine, list(open_paths) + [r.href.decode() for r in others]


def separate(server, lwm2m_entries, board, ctx):
    """Each context opens its own resources only: the LwM2M server's context
    (ctx; False: unusable) the LwM2M objects, the board's "oscore" contexts
    (board: None, or a list) the rest; under the other, 4.03."""
    server.only(lwm2m_entries, [ctx] if ctx else [])
    if board is not None:
        server.only([r for r in server.resources if r not in lwm2m_entries], board)


def _fresh(path, name, log):
    try:
        os.stat(path)
    except OSError:  # a new context, or a wiped one: say so, it matters (docs/security.md)
        log("%s: no %s: sequence numbers start at 0; a secret used before a wipe "
            "must be replaced" % (name, path))


def _context(sec, path):
    from coap.oscorectx import Context, SequenceStore  # only a board with a context

    unhex = config.unhex
    return Context(unhex(sec["secret"]), unhex(sec.get("salt", "")), unhex(sec["sender_id"]),
                   unhex(sec["recipient_id"]),
                   unhex(sec["id_context"]) if "id_context" in sec else None,
                   SequenceStore(path))


def update_context(cfg):
    """The board's context for its update file server (config "update_oscore",
    docs/updates.md), made when an update starts. ValueError when the config's
    is unusable; the messages name fields and files, never keys."""
    sec = cfg["update_oscore"]
    if sec is None or sec == config.INVALID:
        raise ValueError("unusable (see the config's line at boot)")
    return _context(sec, UPDATE_SEQUENCE_FILE)
