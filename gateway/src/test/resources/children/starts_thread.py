"""A module that starts a thread when imported: a fork template must refuse to preload it."""
import threading
import time

threading.Thread(target=time.sleep, args=(3600,), name="sleeper", daemon=True).start()
