def render(run): return None
