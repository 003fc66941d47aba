"""python -m tests.pytorch_style SCRIPT [torch|dagrad]: run one of the scripts' main() on either library."""

import sys

from tests.pytorch_style import LIBRARIES, SCRIPTS, load_script

if len(sys.argv) not in (2, 3) or sys.argv[1] not in SCRIPTS or (sys.argv[2:] and sys.argv[2] not in LIBRARIES):
    sys.exit(f"usage: python -m tests.pytorch_style {{{','.join(SCRIPTS)}}} [{'|'.join(LIBRARIES)}]")
load_script(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "dagrad").main()
