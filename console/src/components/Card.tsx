import type { ReactNode } from "react";

interface CardProps {
  title: string;
  actions?: ReactNode;
  testId?: string;
  children: ReactNode;
}

export function Card({ title, actions, testId, children }: CardProps) {
  return (
    <section className="card" data-testid={testId}>
      <header className="card-header">
        <h2>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
