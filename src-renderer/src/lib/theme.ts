/**
 * The colour theme: "system" follows the OS, "light" and "dark" override it. Stored in localStorage and
 * applied as <html data-theme>, which app.css turns into `color-scheme` (every colour is a light-dark() pair).
 */
export type Theme = 'system' | 'light' | 'dark';
export const THEMES: { value: Theme; label: string }[] = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];
const KEY = 'likeness.theme';

export function storedTheme(storage: Pick<Storage, 'getItem'> = localStorage): Theme {
  const value = storage.getItem(KEY);
  return THEMES.some((t) => t.value === value) ? (value as Theme) : 'system';
}

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.dataset.theme = theme;
  localStorage.setItem(KEY, theme);
}
