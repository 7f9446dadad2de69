/** The lesson runner: one step at a time — predict (pick an answer), act (run it), observe, explain. */
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import type { Lesson, LessonCtx, Step } from './lessons';

interface Props {
  lesson: Lesson;
  ctx: LessonCtx;
  onClose: () => void;
}

export function LessonRunner({ lesson, ctx, onClose }: Props) {
  const [steps] = useState<Step[]>(() => lesson.steps(ctx));
  const [at, setAt] = useState(0);
  const [guess, setGuess] = useState<number>();
  const [result, setResult] = useState<string>();
  const [err, setErr] = useState<string>();
  const [running, setRunning] = useState(false);
  const step = steps[at];
  const done = result !== undefined;

  const act = async () => {
    setRunning(true);
    setErr(undefined);
    try {
      setResult(await step.act());
    } catch (e) {
      setErr(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setRunning(false);
    }
  };
  const next = () => {
    setAt(at + 1);
    setGuess(undefined);
    setResult(undefined);
    setErr(undefined);
  };

  return (
    <section class="lesson" aria-label={`lesson: ${lesson.title}`} data-testid="lesson">
      <header class="vhead">
        <h3>{lesson.title}</h3>
        <button type="button" class="ghostbtn" onClick={onClose} aria-label="close the lesson">
          ✕
        </button>
      </header>
      <ol class="steps">
        {steps.map((s, i) => (
          <li key={i} class={i === at ? 'on' : i < at ? 'past' : ''}>
            {s.title}
          </li>
        ))}
      </ol>
      <div class="stepcard">
        <h4>
          Step {at + 1} of {steps.length}: {step.title}
        </h4>
        {step.predict && (
          <fieldset class="predict">
            <legend>
              <span class="phase">Predict</span> {step.predict.question}
            </legend>
            {step.predict.choices.map((c, i) => (
              <label key={i} class={`choice ${done && i === step.predict!.answer ? 'right' : ''} ${done && guess === i && i !== step.predict!.answer ? 'wrong' : ''}`}>
                <input type="radio" name={`p${at}`} checked={guess === i} disabled={done} onChange={() => setGuess(i)} /> {c}
              </label>
            ))}
          </fieldset>
        )}
        <div class="phaseblock">
          <span class="phase">Act</span>
          <pre class="docker" title="the same on a real engine">
            {step.docker.map((d) => (d.startsWith('#') ? d : `$ ${d}`)).join('\n')}
          </pre>
          <button type="button" class="primary" onClick={act} disabled={running || done} data-testid="lesson-act">
            {running ? 'Running…' : 'Run it in the lab'}
          </button>
        </div>
        {err && <p class="error">{err}</p>}
        {done && (
          <>
            <div class="phaseblock" data-testid="lesson-result">
              <span class="phase">Observe</span>
              <p>
                <strong>{result}</strong>
              </p>
              <p class="muted">{step.observe}</p>
            </div>
            <div class="phaseblock">
              <span class="phase">Explain</span>
              {step.predict && guess !== undefined && (
                <p class={guess === step.predict.answer ? 'c-A' : 'c-D'}>{guess === step.predict.answer ? 'Your prediction was right.' : `Not quite: ${step.predict.choices[step.predict.answer]}.`}</p>
              )}
              <p>{step.explain}</p>
            </div>
            {at + 1 < steps.length ? (
              <button type="button" onClick={next} data-testid="lesson-next">
                Next step →
              </button>
            ) : (
              <button type="button" onClick={onClose}>
                Finish the lesson
              </button>
            )}
          </>
        )}
      </div>
    </section>
  );
}
