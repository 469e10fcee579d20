"""RPC clients to the domain services, declared once for every route mixin."""

from services.kit.rpc import RpcClient


class ServiceClients:
    users = RpcClient("user_management")
    mood = RpcClient("mood_tracking")
    patterns = RpcClient("pattern_analysis")
    notifications = RpcClient("notifications")
    content = RpcClient("therapeutic_content")
    diary = RpcClient("dbt_diary")
    episodes = RpcClient("episode_tracking")
    medications = RpcClient("medications")
    trackers = RpcClient("specialized_trackers")
    sessions = RpcClient("sessions")
    assistant = RpcClient("ai_context")
    exports = RpcClient("export_reports")
