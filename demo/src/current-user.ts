import { DEMO_USERS, type DemoUser } from './schema';

const STORAGE_KEY = 'kalamlite-demo:user';

function isDemoUser(value: string | null): value is DemoUser {
  return value !== null && (DEMO_USERS as readonly string[]).includes(value);
}

/** The user chosen last time in this browser, or the first one. */
export function loadCurrentUser(): DemoUser {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return isDemoUser(saved) ? saved : DEMO_USERS[0];
  } catch {
    return DEMO_USERS[0];
  }
}

export function saveCurrentUser(user: DemoUser): void {
  try {
    localStorage.setItem(STORAGE_KEY, user);
  } catch {
    // Storage can be unavailable (private mode); the choice then lasts until reload.
  }
}
