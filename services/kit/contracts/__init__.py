"""Values the gateway and a service must agree on (the gateway validates with
them, the service stores and interprets them), defined once: the gateway
imports only the kit and its own modules, so they live here."""
