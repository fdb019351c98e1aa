import sys
from installation.models import ModelStore
def main() -> int:
    ModelStore().pull()
    return 0
