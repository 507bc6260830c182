"""The operator's side: the ``newswatch`` command, the development broker, ``newswatch run``'s supervisor and the in-process runner.

It sits above the services (it chains their stages) and ``shared``; nothing below imports it.
"""
