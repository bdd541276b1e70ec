import { Component, type ComponentChild } from 'preact';

/**
 * Skips re-rendering while every prop is the same object as before (shallow identity), like
 * React.memo, without pulling in preact/compat. For components without hooks.
 */
export function memo<P extends object>(render: (props: P) => ComponentChild, name = render.name) {
  class Memo extends Component<P> {
    static override displayName = `memo(${name})`;
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const n = next as Record<string, unknown>;
      for (const k in n) if (n[k] !== prev[k]) return true;
      for (const k in prev) if (!(k in n)) return true;
      return false;
    }
    override render(props: P): ComponentChild {
      return render(props);
    }
  }
  return Memo;
}
