/**
 * An attachment giving focus to an element as it appears, for a control that replaces the one
 * just pressed: without it, keyboard focus falls back to the page's start.
 */
export function focusOnMount(element: HTMLElement): void {
  element.focus();
}
