// The API key lives only in this tab's session storage: it is gone when the tab closes and never touches a cookie.
const STORAGE_KEY = 'platform.apiKey';

export function getKey() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled by browser settings; the user then simply is not signed in.
    return null;
  }
}

export function setKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
}
