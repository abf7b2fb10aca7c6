"""What the enterprises app tells the apps above it without importing them: signals its services
send, received by the apps that care (connected in their ``AppConfig.ready``)."""

from django.dispatch import Signal

#: A financing need was posted, edited or withdrawn, or its firm was verified or had its identity
#: change approved: sent with ``need`` inside the service's transaction. Matching receives it and
#: queues a run of the need after commit (``matching/apps.py``).
need_changed = Signal()
