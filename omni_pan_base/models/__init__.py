from . import omni_pan_guard
from . import omni_pan_guarded
