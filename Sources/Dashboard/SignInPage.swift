/// The sign-in form: the key goes in a password field and is posted, never put in a URL.
public enum SignInPage {
    public static func html(message: String? = nil, isError: Bool = false) -> String {
        var body = "<main class=\"sign-in\">\n<h1>Backbone dashboard</h1>\n"
        if let message {
            body +=
                isError
                ? "<p class=\"error\" role=\"alert\">\(Escape.html(message))</p>\n"
                : "<p class=\"note\" role=\"status\">\(Escape.html(message))</p>\n"
        }
        body += """
            <form method="post" action="/dashboard/sign-in">
            <label for="key">API key</label>
            <input type="password" id="key" name="key" autocomplete="current-password" required>
            <input type="submit" value="Sign in">
            </form>
            <p class="note">Sign in with a coordinator, partner or viewer key. The key is checked on every page, so a revoked key signs you out at once.</p>
            </main>
            """
        return HTMLPage.document(title: "Sign in · Backbone dashboard", body: body)
    }
}

/// A page that says what went wrong, for people (the API answers problem+json instead).
public enum MessagePage {
    public static func html(title: String, message: String) -> String {
        HTMLPage.document(
            title: "\(title) · Backbone dashboard",
            body:
                "<main class=\"sign-in\">\n<h1>\(Escape.html(title))</h1>\n<p>\(Escape.html(message))</p>\n<p><a href=\"/dashboard\">Back to the dashboard</a></p>\n</main>"
        )
    }
}

/// The agenda picker, for a deployment running several agendas.
public enum AgendaListPage {
    public static func html(_ agendas: [DashboardModel.Agenda]) -> String {
        var body =
            "<main>\n<header class=\"page\"><h1>Backbone dashboard</h1>\(DashboardPage.signOutForm)</header>\n<h2>Agendas</h2>\n<ul>\n"
        for agenda in agendas {
            body += "<li><a href=\"/dashboard?agenda=\(Escape.slug(agenda.id))\">\(Escape.html(agenda.name))</a></li>\n"
        }
        if agendas.isEmpty { body += "<li>No agenda yet.</li>\n" }
        body += "</ul>\n</main>"
        return HTMLPage.document(title: "Agendas · Backbone dashboard", body: body)
    }
}
