"""Conformance under load: the suite's parties played by Locust users, every notification still judged.

Locust runs on gevent; the harness runs on asyncio. They meet only in the pure layer: the gevent side
(`wire`, `flows`, `locustfile`) has its own HTTP and Bayeux clients and hands what arrived to the
harness's pure checks (`conformance.chat_checks`, `conformance.match`) through `judge`, with the profile,
wire names and requirement catalogue of `conformance.protocol`. `judge`, `summary` and `settings` import
neither gevent nor asyncio; `command` (gws-conformance load) starts the embedded server and Locust as
child processes, so no process mixes the two loops.
"""
