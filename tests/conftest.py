import os
import tempfile

# Keep the suite hermetic: caches and the default table live in one scratch folder per run,
# unless the caller points BLOX_GYM_DATA somewhere on purpose.
os.environ.setdefault("BLOX_GYM_DATA", tempfile.mkdtemp(prefix="blox-gym-tests-"))
