package flash.content;

import flash.sys.DiskGuard;
import flash.http.RequestTarget;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** HTML directory listing (--list-dirs). Names are HTML-escaped and links percent-encoded: a file name is data. */
public final class DirectoryListing {
    private DirectoryListing() {}

    public static byte[] render(Path dir, String urlPath, boolean dotfiles) throws IOException {
        DiskGuard.check("list " + dir);
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!dotfiles && n.startsWith(".")) continue;
                names.add(Files.isDirectory(p) ? n + "/" : n);
            }
        }
        names.sort(String::compareTo);
        StringBuilder sb = new StringBuilder(256 + names.size() * 64);
        String title = escape(urlPath);
        sb.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ").append(title)
                .append("</title></head>\n<body><h1>Index of ").append(title).append("</h1>\n<ul>\n");
        if (!urlPath.equals("/")) sb.append("<li><a href=\"../\">../</a></li>\n");
        for (String n : names) {
            sb.append("<li><a href=\"").append(escape(RequestTarget.encodePath(n).replace("/", "") + (n.endsWith("/") ? "/" : "")))
                    .append("\">").append(escape(n)).append("</a></li>\n");
        }
        sb.append("</ul></body></html>\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
