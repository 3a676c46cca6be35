"""Local and cloud voice providers (STT, LLM, TTS, VAD) for the LiveKit agent."""
