// Why the chosen key cannot sign, verify, encrypt or decrypt now (only an Enabled key can), and
// the button on the Keys tab that changes that, shown next to the operation's buttons, which
// stay disabled meanwhile: the user learns it before pressing, not from the refusal.
export function KeyStateProblem({ problem }: { problem: string | undefined }) {
  if (problem === undefined) return null;
  return (
    <p className="error" data-testid="key-state-problem">
      {problem}
    </p>
  );
}
