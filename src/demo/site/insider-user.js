// The shop's mapping from its signed-in user (window.shopUser, set by
// /api/me.js) to Insider's user attributes. It also remembers the user's id
// for the "welcome back" banner on the home page.
window.insiderUserFrom = function (u) {
  try { localStorage.setItem('lastUserId', u.id); } catch (e) { /* storage off */ }
  return {
    uuid: u.id,
    name: u.first_name,
    surname: u.last_name,
    email: u.email,
    phone_number: u.phone_e164,
    language: u.locale,
    whatsapp_optin: u.whatsapp,
    gdpr_optin: u.cookie_consent
  };
};
