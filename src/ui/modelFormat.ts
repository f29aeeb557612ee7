/** Model signatures as text: one line per field (the model pages and the model version diff). */
import type { SignatureField } from './modelProtocol';

/** `(-1, 4)` as numpy prints a shape; `-1` is any size. */
export function formatShape(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** One field as one line: `sepal_length: double`, `float64 (-1, 4)`, `temperature: double = 0.5`. */
export function formatField(f: SignatureField): string {
  const type = f.shape && f.shape.length ? `${f.type} ${formatShape(f.shape)}` : f.type;
  return `${f.name ? `${f.name}: ` : ''}${type}${f.required ? '' : ' (optional)'}${f.default !== undefined ? ` = ${f.default}` : ''}`;
}
