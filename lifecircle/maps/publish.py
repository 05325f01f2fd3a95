"""placeholder"""


def publish_site(*a, **k):
    raise NotImplementedError
