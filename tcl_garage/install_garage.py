"""``python -m tcl_garage.install_garage``: install garage 2021.3.0 with
metadata that today's pip and uv accept (``--help`` says how; the
adaptation is :func:`tcl_garage.garage_compat.install_garage`)."""
from tcl_garage.garage_compat import install_garage

if __name__ == '__main__':
    install_garage()
