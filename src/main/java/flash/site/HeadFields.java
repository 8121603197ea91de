package flash.site;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Edits an HTTP/1 response head that is already encoded (the header cache's, the responder's): the site rules
 * add or replace a few fields after the response was decided, without the code that decided it knowing. The result
 * is a new heap buffer; the input (often a shared cached head) is never touched. A {@code --header-align} head loses
 * its alignment by the edit, which only costs the alignment.
 */
final class HeadFields {
    private HeadFields() {}

    static String text(ByteBuffer head) {
        ByteBuffer d = head.duplicate();
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Whether the head has a field of this name. */
    static boolean has(ByteBuffer head, String name) {
        String lower = "\r\n" + name.toLowerCase(Locale.ROOT) + ":";
        return text(head).toLowerCase(Locale.ROOT).contains(lower);
    }

    /** The head with {@code name: value} added as its last field. */
    static ByteBuffer add(ByteBuffer head, String name, String value) {
        String t = text(head);
        if (!t.endsWith("\r\n\r\n")) return head; // not a complete head: leave it alone
        String edited = t.substring(0, t.length() - 2) + name + ": " + value + "\r\n\r\n";
        return ByteBuffer.wrap(edited.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The head with its Content-Type and Content-Length replaced (a custom error page's body in a built-in head). */
    static ByteBuffer replaceBody(ByteBuffer head, String contentType, long length) {
        String t = text(head);
        if (!t.endsWith("\r\n\r\n")) return head;
        String[] lines = t.substring(0, t.length() - 4).split("\r\n", -1);
        StringBuilder out = new StringBuilder(t.length() + 32).append(lines[0]).append("\r\n");
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].toLowerCase(Locale.ROOT);
            if (l.startsWith("content-type:") || l.startsWith("content-length:")) continue;
            out.append(lines[i]).append("\r\n");
        }
        out.append("Content-Type: ").append(contentType).append("\r\n");
        out.append("Content-Length: ").append(length).append("\r\n\r\n");
        return ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.ISO_8859_1));
    }
}
