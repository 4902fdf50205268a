// A page that comes back with form errors (a full-page answer 422) puts the focus on the
// summary of errors, so that keyboard and screen-reader users hear at once what to correct.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("#form-errors");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
});

// After an htmx swap, move focus to the first error or success message so that
// keyboard and screen-reader users learn the result of their input.
document.addEventListener("htmx:afterSwap", function (event) {
  removeRequestErrors();  // the server answered again: an earlier failure is history
  var target = event.detail.target;
  var message = document.querySelector("#form-errors") || (target && target.querySelector(".kern-alert"));
  if (message) {
    message.setAttribute("tabindex", "-1");
    message.focus();
  }
});

// A request that gets no usable answer swaps nothing (base.html's htmx-config), so the user's
// input stays where it is. Say in German what happened, next to the form or the live region
// that made the request, as an alert that screen readers announce.
document.addEventListener("htmx:responseError", function (event) {
  showRequestError(event.detail, messageForStatus(event.detail.xhr.status));
});
document.addEventListener("htmx:sendError", function (event) {
  showRequestError(event.detail, "offline");
});
document.addEventListener("htmx:timeout", function (event) {
  showRequestError(event.detail, "offline");
});

// An ended session answers with a redirect to the login page, which the browser follows
// silently: swapping that page into the form would throw the input away.
document.addEventListener("htmx:beforeSwap", function (event) {
  var template = document.getElementById("kim-request-error");
  var xhr = event.detail.xhr;
  if (!template || !xhr.responseURL) {
    return;
  }
  var path = new URL(xhr.responseURL).pathname;
  var redirectedAway = [template.dataset.loginUrl, template.dataset.secondFactorUrl].some(function (url) {
    return url && path.indexOf(url) === 0;
  });
  if (redirectedAway) {
    event.detail.shouldSwap = false;
    showRequestError(event.detail, "session");
  }
});

function messageForStatus(status) {
  if (status === 403) {
    return "forbidden";
  }
  if (status === 404) {
    return "notFound";
  }
  if (status === 503) {
    return "busy";
  }
  return status >= 500 ? "server" : "refused";
}

function removeRequestErrors() {
  document.querySelectorAll(".kim-request-error").forEach(function (alert) {
    alert.remove();
  });
}

function showRequestError(detail, kind) {
  var template = document.getElementById("kim-request-error");
  // The element that made the request: htmx sets detail.elt to the element an event fires on,
  // which for beforeSwap is the target, not the form.
  var source = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
  if (!template || !source || !document.body.contains(source)) {
    return;
  }
  var form = source.closest("form");
  var verb = detail.requestConfig && detail.requestConfig.verb;
  var submitted = form !== null || (verb && verb !== "get");
  var text = template.dataset[kind] + " " + template.dataset[submitted ? "form" : "poll"];
  var anchor = form || source;
  var previous = form ? form.querySelector(".kim-request-error") : anchor.previousElementSibling;
  if (previous && previous.classList.contains("kim-request-error")) {
    if (previous.textContent.indexOf(text) !== -1 && !submitted) {
      return;  // a poll failing again: say it once, not every second
    }
    previous.remove();
  }
  var alert = template.content.firstElementChild.cloneNode(true);
  alert.querySelector("[data-kim-message]").textContent = text;
  if (form) {
    form.insertBefore(alert, form.firstChild);
  } else {
    anchor.parentNode.insertBefore(alert, anchor);
  }
  if (submitted) {
    alert.focus();  // moving focus on a poll would pull the user away every second
  }
}

// A plain form sent once is not sent again while its answer is on the way: Chromium sends a
// double click's second submission too, which recorded a new person and then showed the form
// again with a duplicate warning (PostgreSQL leg of the browser tests). htmx forms are left to
// htmx, which drops a second request of an element while one is on its way. A download leaves
// the page where it is, so the guard lapses after a few seconds.
var RESUBMIT_AFTER_MS = 5000;
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) {
    return;
  }
  var sentAt = Number(form.dataset.kimSentAt || 0);
  if (Date.now() - sentAt < RESUBMIT_AFTER_MS) {
    event.preventDefault();
    return;
  }
  form.dataset.kimSentAt = String(Date.now());
});
// Back to a page from the browser's cache: its forms may be sent again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-kim-sent-at]").forEach(function (form) {
    delete form.dataset.kimSentAt;
  });
});
