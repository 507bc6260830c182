"""The faust worker every service runs: app, message loop, commit guard, isolation, lifecycle.

``services/<svc>/app.py`` calls ``build_worker`` and ``run_worker``; nothing here knows a service.
"""
