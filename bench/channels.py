"""Beacon's REST channel under another name, so the benchmark can run it beside Rasa's bare REST channel."""

from channels.rest_channel import SafeRestInput


class BenchBeaconRest(SafeRestInput):
    """Same code as ``SafeRestInput``, mounted at /webhooks/beaconrest/."""

    @classmethod
    def name(cls) -> str:
        return "beaconrest"
