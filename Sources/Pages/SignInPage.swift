import Operations

/// The officials' sign-in form and short messages (refusals, "sign in first").
enum SignInPage {
    static func form(message: String?) -> String {
        var body = "<h1>Officials: sign in</h1>\n"
        if let message { body += "<p id=\"error\" class=\"late\">\(HTML.escape(message))</p>\n" }
        body += """
            <p>Make a sign-in assertion with your key — it lives 2 minutes and works once:</p>
            <pre>motcua officials sign-in --official YOUR-ID --key YOUR-KEY.pem</pre>
            <form method="post" action="/sign-in">
            <label for="assertion">Assertion</label><br>
            <textarea id="assertion" name="assertion" rows="6" style="width:100%" required></textarea><br>
            <button type="submit">Sign in</button>
            </form>
            """
        return HTML.page(title: "Officials: sign in", body: body)
    }

    static func message(title: String, text: String, link: String) -> String {
        HTML.page(
            title: title,
            body: "<h1>\(HTML.escape(title))</h1>\n<p id=\"error\">\(HTML.escape(text))</p>\n"
                + "<p><a href=\"\(HTML.escape(link))\">Continue</a></p>")
    }
}
