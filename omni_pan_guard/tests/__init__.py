from . import test_adversarial_card_numbers
from . import test_pan_guard
