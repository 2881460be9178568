"""A worker's long-lived objects, kept out of the garbage collector's walks.

Once the portal is loaded a worker holds some 80,000 objects (modules,
settings, models, URL patterns) that live as long as it does. Python's cyclic
collector walks every one of them on each full collection, and a busy worker
triggers those often: a bulk operation of a thousand transfers allocates some
15,000 objects and paid 20 to 40 ms more for it, every few batches.
Frozen once the application is built (``gc.freeze``), they are left alone,
and the collector walks only what requests allocate.
"""

import gc


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, then freeze the rest for good."""
    gc.collect()
    gc.freeze()
