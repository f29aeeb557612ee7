/** One color per run, the same in every chart and the legend: the theme's six, then evenly spread hues. */
import { themeColors } from './chartSpec';

export function runColors(count: number): string[] {
  const theme = themeColors();
  const out = theme.slice(0, count);
  // Golden-angle hues keep neighbours apart however many runs a sweep has.
  for (let i = out.length; i < count; i++) out.push(`hsl(${Math.round((i * 137.508) % 360)}, 62%, 58%)`);
  return out;
}
