"""dagrad's lessons and main job: programs that run on dagrad, show pictures and check their own claims.

python -m demos                 # list the lessons
python -m demos main            # the main job (make demo)
python -m demos NAME --quick    # one lesson, small and fast
"""

from demos.claims import ClaimFailed, check
from demos.context import LessonContext
from demos.registry import LESSONS
from demos.runner import main, run_lesson

__all__ = ["LESSONS", "ClaimFailed", "LessonContext", "check", "main", "run_lesson"]
