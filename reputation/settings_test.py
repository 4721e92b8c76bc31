"""Test override: the same settings, with cheaper password hashing and a local mail box."""

from reputation.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in-process through django-q2's own code path when queued; the end-to-end
# worker tests start a real `qcluster` process instead.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# Several suites can share one PostgreSQL cluster (e.g. two checkouts): name the DB apart.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_repdesk")}  # noqa: F405
