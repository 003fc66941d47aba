"""`python -m demos [NAME] [--quick] [--out DIR] [--seed N]`"""

from demos.runner import main

raise SystemExit(main())
