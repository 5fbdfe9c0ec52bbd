# rp2 for the board tests: only the (deprecated) country() the board falls back to.

#: every country() argument, in order
countries = []


def reset():
    del countries[:]


def country(code=None):
    countries.append(code)
