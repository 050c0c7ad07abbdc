// The same rule as the API's AppNames.Validate (src/Platform.ControlPlane/Domain/AppNames.cs), with the same
// messages, so the form can explain a bad name before anything is sent. The API stays the authority.
export const MIN_LENGTH = 3;
export const MAX_LENGTH = 63;
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const RESERVED = new Set(['www', 'api', 'admin', 'dashboard', 'internal', 'localhost']);

/** Returns null for a valid app name, else a sentence saying why it is not. */
export function validateAppName(name) {
  if (!name) {
    return 'An app name is required.';
  }
  if (name.length < MIN_LENGTH || name.length > MAX_LENGTH) {
    return `App name '${name}' must be ${MIN_LENGTH} to ${MAX_LENGTH} characters long (it has ${name.length}).`;
  }
  if (!LABEL.test(name)) {
    return `App name '${name}' must be a DNS label: lower-case letters a-z, digits and '-', starting and ending with a letter or digit.`;
  }
  if (name.length > 3 && name[2] === '-' && name[3] === '-') {
    return `App name '${name}' must not have '--' in its third and fourth characters (reserved for encoded host names).`;
  }
  if (RESERVED.has(name)) {
    return `App name '${name}' is reserved.`;
  }
  return null;
}
