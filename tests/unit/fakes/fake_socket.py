# A stand-in for the lwIP socket module of the ESP32 and Pico W ports: enough
# for a board's multicast_socket(), recording what it was asked to do.
AF_INET = 2
AF_INET6 = 10
SOCK_DGRAM = 2
IPPROTO_IP = 0
IP_ADD_MEMBERSHIP = 3  # lwIP's number
SOL_SOCKET = 0xFFF
SO_REUSEADDR = 4

made = []


def getaddrinfo(host, port, af=0, type=0):
    return [(AF_INET, SOCK_DGRAM, 0, "", (host, port))]


class socket:
    def __init__(self, family=AF_INET, type=SOCK_DGRAM):
        self.family = family
        self.bound = None
        self.options = []
        self.closed = False
        made.append(self)

    def bind(self, addr):
        self.bound = addr

    def setsockopt(self, level, name, value):
        self.options.append((level, name, bytes(value)))

    def close(self):
        self.closed = True

    def settimeout(self, t):
        self.timeout = t

    def recv(self, n):
        raise OSError(110)  # ETIMEDOUT: nothing ever arrives
