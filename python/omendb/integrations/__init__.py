"""Adapters that let other frameworks (LlamaIndex, LangChain, Haystack) store their vectors in OmenDB."""
