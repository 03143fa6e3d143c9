from . import authentication
