"""What readers see, made from day records: the day view, the Jekyll post, the import of
old posts, the sanitizer, the reader's site, its search and its preview server."""
