"""Running a piece of work in several threads released at the same instant, each on its own
database connection: the double click, tested on PostgreSQL."""

import threading
from collections.abc import Callable


def at_once(work: Callable[[], object], times: int = 2) -> list:
    """What ``work`` returned in each of ``times`` threads started together, in the order
    they finished; the first exception a thread raised is raised here."""
    from django.db import connection

    barrier, results, errors = threading.Barrier(times), [], []

    def run() -> None:
        try:
            barrier.wait(5)
            results.append(work())
        except Exception as error:  # raised below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
