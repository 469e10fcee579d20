"""Tooling around the running system, never imported by a service: the process
runner behind `make run` and the tests (``stack``), the local mail and SMS
stand-ins (``sinks``, ``mail_sink``, ``sms_sink``), local secrets
(``secrets``), queue declaration (``queues``), the container health check
(``health``), dead-letter tools (``dlq``) and the operator shell
(``shell_startup``, ``operator``).
"""
